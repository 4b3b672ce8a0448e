package io.ddbcdc.connect.converters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;

/**
 * The two calls of Confluent's Schema Registry REST API a serializer needs: register a schema under a
 * subject ({@code POST /subjects/{s}/versions}, which returns the existing id for a schema already
 * there) and look one up ({@code POST /subjects/{s}}, for a reference's version). Any registry that
 * speaks this API works (Confluent's, Apicurio's {@code /apis/ccompat/v7}, Karapace, Redpanda's).
 */
final class SchemaRegistryClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    /** A schema another imports: its import name, and the subject and version it is registered as. */
    record Reference(String name, String subject, int version) {
    }

    /** A schema's id and its version under one subject. */
    record Registered(int id, int version) {
    }

    private final List<String> urls;
    private final String authorization;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** @param userInfo "user:password" for HTTP basic authentication, or null */
    SchemaRegistryClient(List<String> urls, String userInfo) {
        this.urls = urls.stream().map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u).toList();
        this.authorization = userInfo == null ? null
                : "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }

    int register(String subject, String type, String schema, List<Reference> references) {
        try {
            return post("/subjects/" + encode(subject) + "/versions", body(type, schema, references), false)
                    .get("id").asInt();
        } catch (Refused e) {
            // Two tasks writing one topic register its schema at once; Apicurio answers the later one 409
            // ("already exists") where Confluent's registry answers with the id. A 409 for a schema the subject
            // does not hold is an incompatible one: that error stands.
            Registered found = e.status == 409 ? lookup(subject, type, schema, references) : null;
            if (found == null) {
                throw e;
            }
            return found.id();
        }
    }

    /** The schema's id and version under the subject, or null when the subject does not hold it. */
    Registered lookup(String subject, String type, String schema, List<Reference> references) {
        JsonNode answer = post("/subjects/" + encode(subject), body(type, schema, references), true);
        return answer == null ? null : new Registered(answer.get("id").asInt(), answer.get("version").asInt());
    }

    private static String body(String type, String schema, List<Reference> references) {
        ObjectNode body = JSON.createObjectNode().put("schema", schema);
        if (!"AVRO".equals(type)) { // AVRO is the API's default type
            body.put("schemaType", type);
        }
        if (!references.isEmpty()) {
            ArrayNode refs = body.putArray("references");
            references.forEach(r -> refs.addObject().put("name", r.name()).put("subject", r.subject())
                    .put("version", r.version()));
        }
        return body.toString();
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The answer of the first registry URL that answers; null for a 404 when {@code notFoundIsNull}. */
    private JsonNode post(String path, String body, boolean notFoundIsNull) {
        IOException last = null;
        for (String url : urls) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", CONTENT_TYPE)
                    .header("Accept", CONTENT_TYPE + ", application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body));
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                last = e;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RetriableException("Interrupted while calling the schema registry", e);
            }
            if (response.statusCode() == 404 && notFoundIsNull) {
                return null;
            }
            if (response.statusCode() / 100 != 2) {
                throw new Refused(response.statusCode(), "Schema registry " + url + " answered "
                        + response.statusCode() + " to POST " + path + ": " + response.body());
            }
            try {
                return JSON.readTree(response.body());
            } catch (IOException e) {
                throw new DataException("Schema registry " + url + " answered POST " + path + " with bad JSON: "
                        + response.body(), e);
            }
        }
        throw new RetriableException("No schema registry answered at " + urls + ": " + last, last);
    }

    /** A registry's refusal, with its HTTP status. */
    private static final class Refused extends DataException {
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }
}
