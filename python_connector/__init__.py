"""Engine of the self-managed Amazon DynamoDB CDC source connector for Kafka Connect."""
