import ConvergeCore

/// The Converge HTTP API, spec first: `openapi.yaml` in this folder is the contract; swift-openapi-generator's
/// build plugin turns it into the `APIProtocol` server stubs, `Operations` and `Components` types, internal to
/// this target (`openapi-generator-config.yaml`). The report schema is `ConvergeCore.Report` itself (a type override), so
/// the API sends exactly the report JSON that `converge analyze --format json` writes.
enum ConvergeAPISpec {
    /// The OpenAPI 3.1 document, as the bytes of `openapi.yaml` (served at `GET /openapi.yaml`).
    static var yaml: [UInt8] { PackageResources.openapi_yaml }
}

// The generated response types are Hashable, so the report they carry must be. Equal reports hash equally:
// only a few fields are hashed, which `==` (all fields) refines.
extension Report: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(schemaVersion)
        hasher.combine(prompt)
        hasher.combine(panelists.count)
        hasher.combine(keyPoints.count)
        hasher.combine(convergence.index)
    }
}
