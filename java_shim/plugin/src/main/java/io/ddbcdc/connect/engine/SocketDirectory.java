package io.ddbcdc.connect.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The worker's private directory (mode 0700) for the engine processes' Unix sockets: only the worker's user can
 * reach a socket, and the connection's secret guards it further. Removed when the worker exits normally.
 */
final class SocketDirectory {
    private static volatile Path dir;

    private SocketDirectory() {
    }

    static Path get() {
        Path d = dir;
        if (d == null) {
            synchronized (SocketDirectory.class) {
                if (dir == null) {
                    dir = create();
                }
                d = dir;
            }
        }
        return d;
    }

    private static Path create() {
        try {
            Path d = Files.createTempDirectory("ddbcdc-engine-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(d), "ddbcdc-socket-cleanup"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create a private directory for the engine's sockets", e);
        }
    }

    private static void delete(Path d) {
        try (Stream<Path> paths = Files.walk(d)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort at exit
        }
    }
}
