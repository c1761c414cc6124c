import Foundation

/// BERT's WordPiece tokenizer, configured from a Hugging Face `tokenizer.json`: the `BertNormalizer` (clean
/// text, space around CJK ideographs, strip accents, lowercase), the `BertPreTokenizer` (split at whitespace
/// and around each punctuation character), then greedy longest-match-first WordPiece with the `##`
/// continuation prefix, and `[CLS] ... [SEP]` around the result.
///
/// Algorithm: Devlin et al., BERT (2019), and the Hugging Face `tokenizers` library's `BertNormalizer`,
/// `BertPreTokenizer` and `WordPiece` model, whose documented behaviour this follows.
public struct WordPieceTokenizer: Sendable {
    public let vocabulary: [String: Int32]
    public let unknownID: Int32
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    public let continuationPrefix: String
    public let maxInputCharsPerWord: Int
    public let lowercase: Bool
    public let stripAccents: Bool
    public let handleChineseChars: Bool
    public let cleanText: Bool

    /// The fields of `tokenizer.json` that configure it, each optional so that a missing one is named in the
    /// error rather than failing the whole decoding.
    struct File: Decodable {
        struct Model: Decodable {
            var type: String?
            var unkToken: String?
            var continuingSubwordPrefix: String?
            var maxInputCharsPerWord: Int?

            enum CodingKeys: String, CodingKey {
                case type, unkToken = "unk_token", continuingSubwordPrefix = "continuing_subword_prefix"
                case maxInputCharsPerWord = "max_input_chars_per_word"
            }

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                type = try? c.decodeIfPresent(String.self, forKey: .type)
                unkToken = try? c.decodeIfPresent(String.self, forKey: .unkToken)
                continuingSubwordPrefix = try? c.decodeIfPresent(String.self, forKey: .continuingSubwordPrefix)
                maxInputCharsPerWord = try? c.decodeIfPresent(Int.self, forKey: .maxInputCharsPerWord)
            }
        }

        struct Normalizer: Decodable {
            var lowercase: Bool?
            var stripAccents: Bool?
            var handleChineseChars: Bool?
            var cleanText: Bool?

            enum CodingKeys: String, CodingKey {
                case lowercase, stripAccents = "strip_accents", handleChineseChars = "handle_chinese_chars"
                case cleanText = "clean_text"
            }

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                lowercase = try? c.decodeIfPresent(Bool.self, forKey: .lowercase)
                stripAccents = try? c.decodeIfPresent(Bool.self, forKey: .stripAccents)
                handleChineseChars = try? c.decodeIfPresent(Bool.self, forKey: .handleChineseChars)
                cleanText = try? c.decodeIfPresent(Bool.self, forKey: .cleanText)
            }
        }

        var model: Model?
        var normalizer: Normalizer?

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            model = try? c.decodeIfPresent(Model.self, forKey: .model)
            normalizer = try? c.decodeIfPresent(Normalizer.self, forKey: .normalizer)
        }

        enum CodingKeys: String, CodingKey { case model, normalizer }
    }

    /// Reads `tokenizer.json`: the vocabulary with `VocabularyScanner` (a few milliseconds, against 70-95 for
    /// `JSONDecoder` or `JSONSerialization`), the other fields with `JSONDecoder`, which skips the vocabulary
    /// unread. Throws `EmbeddingModelError.missingFile`
    /// or `.damaged` (naming the field) when the file is absent, not JSON, not a WordPiece tokenizer, or lacks
    /// a special token.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingModelError.missingFile(path: path) }
        func damaged(_ reason: String) -> EmbeddingModelError { .damaged(path: path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: path),
              let root = try? JSONDecoder().decode(File.self, from: data)
        else { throw damaged("not a JSON object") }
        guard let model = root.model, model.type == "WordPiece" else {
            throw damaged("model.type is not WordPiece")
        }
        struct Vocabulary: Decodable {
            struct Model: Decodable { var vocab: [String: Int32]? }
            var model: Model?
        }
        guard let vocabulary = VocabularyScanner.vocabulary(in: data)
                ?? (try? JSONDecoder().decode(Vocabulary.self, from: data))?.model?.vocab,
              !vocabulary.isEmpty
        else { throw damaged("model.vocab is missing") }
        self.vocabulary = vocabulary
        let unk = model.unkToken ?? "[UNK]"
        func id(_ token: String) throws -> Int32 {
            guard let id = vocabulary[token] else { throw damaged("model.vocab has no \(token)") }
            return id
        }
        self.unknownID = try id(unk)
        self.clsID = try id("[CLS]")
        self.sepID = try id("[SEP]")
        self.padID = try id("[PAD]")
        self.continuationPrefix = model.continuingSubwordPrefix ?? "##"
        self.maxInputCharsPerWord = model.maxInputCharsPerWord ?? 100
        let lowercase = root.normalizer?.lowercase ?? true
        self.lowercase = lowercase
        // As in `tokenizers`: strip_accents null means "strip when lowercasing".
        self.stripAccents = root.normalizer?.stripAccents ?? lowercase
        self.handleChineseChars = root.normalizer?.handleChineseChars ?? true
        self.cleanText = root.normalizer?.cleanText ?? true
    }

    /// Token ids of `text`: `[CLS]`, at most `maxLength - 2` word pieces, `[SEP]`.
    public func encode(_ text: String, maxLength: Int) -> [Int32] {
        var ids: [Int32] = [clsID]
        let limit = max(0, maxLength - 2)
        outer: for word in preTokenize(normalize(text)) {
            for piece in wordPieces(word) {
                if ids.count - 1 >= limit { break outer }
                ids.append(piece)
            }
        }
        ids.append(sepID)
        return ids
    }

    /// Token ids of the pair (`context`, `text`) as BERT reads a sentence pair: `[CLS]`, the context's pieces,
    /// `[SEP]`, the text's pieces, `[SEP]`, at most `maxLength` in all, truncated as the `tokenizers` library's
    /// `longest_first` strategy cuts a pair (only the longer loses pieces while the shorter fits in half the
    /// room; else each keeps half), and `textStart`, the position of the text's first piece.
    public func encode(_ text: String, context: String, maxLength: Int) -> (ids: [Int32], textStart: Int) {
        func pieces(_ s: String) -> [Int32] { preTokenize(normalize(s)).flatMap(wordPieces) }
        var first = pieces(context), second = pieces(text)
        let room = max(0, maxLength - 3)
        if first.count + second.count > room {
            let swapped = first.count > second.count
            var short = min(first.count, second.count), long = max(first.count, second.count)
            long = short > room ? short : max(short, room - short)
            if short + long > room { short = room / 2; long = short + room % 2 }
            first = Array(first.prefix(swapped ? long : short))
            second = Array(second.prefix(swapped ? short : long))
        }
        return ([clsID] + first + [sepID] + second + [sepID], first.count + 2)
    }

    /// The word pieces of `text` as strings (for tests and debugging).
    public func tokens(_ text: String) -> [String] {
        let reverse = Dictionary(vocabulary.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        return preTokenize(normalize(text)).flatMap(wordPieces).map { reverse[$0] ?? "?" }
    }

    // MARK: Normalizer

    func normalize(_ text: String) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) { scalars.append(" "); continue }
            }
            if handleChineseChars, Self.isChinese(s) {
                scalars.append(" "); scalars.append(s); scalars.append(" ")
                continue
            }
            scalars.append(s)
        }
        var string = String(String.UnicodeScalarView(scalars))
        if stripAccents {
            string = string.decomposedStringWithCanonicalMapping
            string = String(String.UnicodeScalarView(string.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }))
        }
        if lowercase { string = string.lowercased() }
        return Array(string.unicodeScalars)
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch s.properties.generalCategory {
        case .control, .format, .privateUse, .unassigned, .surrogate: return true
        default: return false
        }
    }

    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    // MARK: Pre-tokenizer

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    func preTokenize(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if Self.isWhitespace(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if Self.isPunctuation(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    // MARK: WordPiece

    func wordPieces(_ word: [Unicode.Scalar]) -> [Int32] {
        if word.count > maxInputCharsPerWord { return [unknownID] }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var candidate = String(String.UnicodeScalarView(word[start..<end]))
                if start > 0 { candidate = continuationPrefix + candidate }
                if let id = vocabulary[candidate] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }
}
