package io.ddbcdc.connect.converters;

/**
 * The subject an imported Protobuf file is registered under, as Confluent's strategies of the same
 * names: the import path itself, or the path with '/' as '.' and no ".proto".
 */
enum ReferenceSubjectNameStrategy {
    DefaultReferenceSubjectNameStrategy,
    QualifiedReferenceSubjectNameStrategy;

    static ReferenceSubjectNameStrategy parse(String property, String value) {
        return SubjectNameStrategy.parseSimpleName(ReferenceSubjectNameStrategy.class, property, value);
    }

    String subject(String importPath) {
        return this == DefaultReferenceSubjectNameStrategy ? importPath
                : importPath.replace(".proto", "").replace('/', '.');
    }
}
