import Foundation

/// A read-only view of a safetensors file: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian tensor data.
///
/// Format: https://github.com/huggingface/safetensors (README, "Format"). Only `F32` tensors can be read as
/// floats; other dtypes are listed but `floats(_:shape:)` refuses them. Every byte range is checked against the
/// file, so a truncated or damaged file throws `EmbeddingModelError.damaged` instead of reading out of bounds.
public struct SafeTensorsFile: Sendable {
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range within the data section (after the header).
        public var range: Range<Int>
    }

    public let path: String
    public let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    /// Maps the file at `path`. Throws `EmbeddingModelError.missingFile` when it does not exist and `.damaged`
    /// when its header is not valid or a tensor's byte range does not fit its dtype, shape or the file.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw EmbeddingModelError.damaged(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        try self.init(path: path, data: data)
    }

    /// Parses safetensors bytes held in memory; `path` only names them in errors.
    public init(path: String, data: Data) throws {
        self.path = path
        func damaged(_ reason: String) -> EmbeddingModelError { .damaged(path: path, reason: reason) }
        guard data.count >= 8 else { throw damaged("not a safetensors file (\(data.count) bytes, no header)") }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(data[data.startIndex + i]) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100_000_000 else {
            throw damaged("header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw damaged("header is not a JSON object")
        }
        let dataLength = data.count - 8 - Int(headerLength)
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
                  let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
            else { throw damaged("tensor \(name): header entry lacks dtype, shape or data_offsets") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw damaged("tensor \(name): bytes \(offsets[0])..<\(offsets[1]) lie outside the data "
                              + "(\(dataLength) bytes; the file may be truncated)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw damaged("tensor \(name): negative dimension") }
            if let size = Self.byteSize(dtype) {
                let expected = shape.reduce(1, *) * size
                guard expected == offsets[1] - offsets[0] else {
                    throw damaged("tensor \(name): shape \(shape) of \(dtype) needs \(expected) bytes, "
                                  + "the header gives \(offsets[1] - offsets[0])")
                }
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.tensors = tensors
        self.data = data
        self.dataStart = data.startIndex + 8 + Int(headerLength)
    }

    static func byteSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    /// The F32 tensor `name` as floats in row-major order. Throws `.damaged` when it is absent, not F32, or
    /// its shape is not `shape`.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let info = tensors[name] else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) is missing")
        }
        guard info.dtype == "F32" else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) is \(info.dtype), expected F32")
        }
        guard info.shape == shape else {
            throw EmbeddingModelError.damaged(path: path, reason: "tensor \(name) has shape \(info.shape), expected \(shape)")
        }
        let count = info.range.count / 4
        var result = [Float](repeating: 0, count: count)
        result.withUnsafeMutableBytes { out in
            data.withUnsafeBytes { raw in
                let start = dataStart - data.startIndex + info.range.lowerBound
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start...].prefix(info.range.count)))
            }
        }
        #if _endian(big)
        for i in result.indices { result[i] = Float(bitPattern: UInt32(littleEndian: result[i].bitPattern)) }
        #endif
        return result
    }
}
