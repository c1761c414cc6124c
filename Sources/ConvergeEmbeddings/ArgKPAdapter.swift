// Placeholder until scripts/make-adapter-source.py writes it: an adapter with no layers.
import Foundation

extension ModelAdapter {
    public static let argKP: ModelAdapter = {
        let data = Data(base64Encoded: argKPBase64, options: .ignoreUnknownCharacters)!
        return try! ModelAdapter(name: "argkp", base: "all-MiniLM-L6-v2", provenance: "placeholder",
                                 file: SafeTensorsFile(path: "ModelAdapter.argKP", data: data))
    }()

    static let argKPBase64 = """
AgAAAAAAAAB7fQ==
"""
}
