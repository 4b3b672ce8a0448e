"""The engine in a child process of a stock Kafka Connect worker, served over a Unix domain socket.

The plugin (``io.ddbcdc.connect.engine.ProcessTransport``) starts ``python -m python_connector.process`` with the
socket's path and a secret in the environment, connects, authenticates, and calls the same operations as the
in-process bridge; see :mod:`python_connector.process.framing` for the protocol. Nothing else imports this package.
"""
