package io.ddbcdc.connect.converters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A Confluent-API registry in memory over real HTTP: register and look up, ids shared by equal content. */
final class FakeRegistry implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, List<String>> subjects = new LinkedHashMap<>(); // subject -> contents by version - 1
    final Map<String, Integer> ids = new LinkedHashMap<>(); // content (body without subject) -> id
    final List<String> calls = new ArrayList<>();
    // Answer a registration 409 when the subject already holds a schema, as Apicurio does to the later of two
    // concurrent registrations of one schema (and any registry to an incompatible one).
    boolean conflictWhenHeld;
    private final HttpServer server;

    FakeRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    JsonNode content(int id) throws IOException {
        return JSON.readTree(ids.entrySet().stream().filter(e -> e.getValue() == id).findFirst().orElseThrow().getKey());
    }

    private synchronized void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getRawPath();
        String content = JSON.readTree(exchange.getRequestBody()).toString();
        calls.add(exchange.getRequestMethod() + " " + path);
        String rest = path.substring("/subjects/".length());
        boolean register = rest.endsWith("/versions");
        String subject = URLDecoder.decode(register ? rest.substring(0, rest.length() - "/versions".length()) : rest,
                StandardCharsets.UTF_8);
        List<String> versions = register ? subjects.computeIfAbsent(subject, s -> new ArrayList<>())
                : subjects.getOrDefault(subject, List.of());
        int version = versions.indexOf(content) + 1;
        if (register && conflictWhenHeld && !versions.isEmpty()) {
            respond(exchange, 409, "{\"error_code\":409,\"message\":\"An artifact with ID '" + subject
                    + "' already exists.\"}");
            return;
        }
        if (register && version == 0) {
            versions.add(content);
            version = versions.size();
        }
        if (version == 0) {
            respond(exchange, 404, "{\"error_code\":40403,\"message\":\"Schema not found\"}");
            return;
        }
        int id = ids.computeIfAbsent(content, c -> ids.size() + 1);
        respond(exchange, 200, register ? "{\"id\":" + id + "}"
                : "{\"subject\":\"" + subject + "\",\"id\":" + id + ",\"version\":" + version + "}");
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
