import ConvergeCore

/// Recognises filler: text of an answer that makes no point (ARCHITECTURE.md, "Terms"; the consolidation corpus's
/// ANNOTATION.md, rule 6): greetings and pleasantries, introductions that restate the question, sentences that
/// announce a list ("Here are some tips to help you dice safely:"), headings and labels that only announce a
/// section ("Proper Grip", "Additional tips:"), empty closing summaries ("By following these tips, ..."),
/// and questions handed back to the reader.
///
/// The rules read the answer's structure (which block a statement is in, whether a list follows) and its words
/// (cue phrases, and the prompt's words for restatements); they never look at other answers, so an answer is
/// judged the same whatever panel it is in. Linear in the number of statements.
public enum FillerDetector {
    /// Why a statement was set aside.
    public enum Reason: String, Sendable, Codable {
        /// A heading or label that only announces the section below it.
        case sectionHeading = "section heading"
        /// A sentence that announces the list after it.
        case announcement
        /// A greeting, pleasantry, compliment or sympathy formula.
        case pleasantry
        /// An opening that restates the question before the answer proper.
        case introduction
        /// A closing that sums up nothing ("By following these tips, ...").
        case closing
        /// A question handed back to the reader.
        case question
        /// A phrase that only links a sentence to what came before ("Beyond coding,", "Most importantly,").
        case transition
    }

    /// The filler among `statements`, with the reason for each (indexed by statement).
    ///
    /// - Parameters:
    ///   - statements: every statement of the panel, as `Segmenter` made them (answers in order).
    ///   - answers: the answers' scalars, indexed by `Statement.answerIndex`.
    ///   - prompt: the question, if known (restatements of it are filler in an answer's opening).
    public static func classify(_ statements: [Statement], answers: [[Unicode.Scalar]], prompt: String?) -> [Int: Reason] {
        classify(statements, answers: answers, prompt: prompt, pointBlock: PointBlocks.of(statements))
    }

    /// `classify` with the statements' `PointBlocks` already computed.
    static func classify(_ statements: [Statement], answers: [[Unicode.Scalar]], prompt: String?,
                         pointBlock: [[Int]]) -> [Int: Reason] {
        let promptStems = Set(prompt.map(LexicalSpace.features(of:)) ?? [])
        var result: [Int: Reason] = [:]
        // Per answer: its blocks' statements, and whether a list or heading comes after the opening paragraph.
        var byAnswer: [Int: [Int]] = [:]
        for (i, s) in statements.enumerated() { byAnswer[s.answerIndex, default: []].append(i) }
        for (answer, members) in byAnswer {
            let scalars = answers[answer]
            let structured = members.contains {
                statements[$0].blockKind == .listItem || statements[$0].blockKind == .heading
            }
            let firstBlock = members.map { statements[$0].block }.min() ?? 0
            let lastBlock = members.map { statements[$0].block }.max() ?? 0
            let opening = structured && members.contains {
                statements[$0].block == firstBlock && statements[$0].blockKind == .paragraph
            }
            var closingSentence: Range<Int>?
            for i in members {
                let s = statements[i]
                let words = Tokenizer.tokens(s.text).map { $0.text.lowercased().replacingApostrophes }
                let own = ownWords(s.text)
                let sentence = s.sentence ?? s.start..<s.end
                if s.announcesSection || s.isLeadIn && genericHeadings.contains(words.joined(separator: " ")) {
                    result[i] = .sectionHeading
                } else if s.kind == .clause, let sentence = s.sentence, s.start == sentence.lowerBound,
                          Segmenter.isTransition(words), followedByComma(scalars, s.end) {
                    result[i] = .transition
                } else if let closing = closingSentence, closing == sentence {
                    result[i] = .closing
                } else if isPleasantry(words, ownWords: own, scalars: scalars, end: s.end) {
                    result[i] = .pleasantry
                } else if isAnnouncement(words, endsWithColon: followedByColon(scalars, s.end)) {
                    result[i] = .announcement
                } else if isClosing(words) {
                    result[i] = .closing
                    closingSentence = sentence
                } else if s.block == lastBlock, s.blockKind == .paragraph, isEmptyClosing(own) {
                    result[i] = .closing
                } else if s.block == lastBlock, endsWithQuestionMark(scalars, s.end), s.blockKind == .paragraph {
                    result[i] = .question
                } else if opening, s.block == firstBlock,
                          restates(scalars.string(sentence), promptStems)
                            || endsWithExclamation(scalars, sentence.upperBound) {
                    // The opening's restatements and exclamations ("The eternal struggle of dicing ...!"),
                    // judged on the whole sentence a clause is part of.
                    result[i] = .introduction
                }
            }
        }
        // A lead-in or heading whose explanation is all filler ("## Conclusion" over "Stay safe!"), and a
        // heading that names no point ("Conclusion", "Summary", "Final thoughts"), only announce.
        var blockFiller: [[Int]: (all: Bool, any: Bool)] = [:]
        for (i, s) in statements.enumerated() where !s.isLeadIn {
            let current = blockFiller[pointBlock[i]] ?? (true, false)
            blockFiller[pointBlock[i]] = (current.all && result[i] != nil, true)
        }
        // (A lead-in that is a generic heading was set aside in the loop above.)
        for (i, s) in statements.enumerated() where s.isLeadIn && result[i] == nil {
            if let state = blockFiller[pointBlock[i]], state.any, state.all { result[i] = .sectionHeading }
        }
        for (i, s) in statements.enumerated() where s.kind == .heading && result[i] == nil {
            let words = Tokenizer.tokens(s.text).map { $0.text.lowercased() }
            if genericHeadings.contains(words.joined(separator: " ")) { result[i] = .sectionHeading }
        }
        return result
    }

    /// Headings that name a part of the answer, not a point.
    static let genericHeadings: Set<String> = [
        "conclusion", "conclusions", "summary", "in summary", "in conclusion", "introduction", "overview",
        "final thoughts", "final words", "key takeaways", "takeaways", "tips", "additional tips", "more tips",
        "other tips", "bonus tips", "notes", "note", "details", "background", "tl;dr", "tldr", "bottom line",
        "tip", "important", "important note", "remember", "reminder", "warning", "caution", "disclaimer",
    ]

    static let interjections: Set<String> = ["absolutely", "sure", "certainly", "yes", "well", "great", "ok", "okay",
                                              "indeed", "of", "course", "so", "oh", "ah", "wow", "hi", "hello"]
    static let interjectionStems = Set(interjections.flatMap { LexicalSpace.features(of: $0) })
    static let listNouns: Set<String> = [
        "tips", "ways", "steps", "strategies", "reasons", "suggestions", "things", "ideas", "points", "concepts",
        "principles", "options", "factors", "methods", "examples", "techniques", "guidelines", "practices",
        "recommendations", "basics", "key", "considerations", "approaches", "aspects", "elements", "areas",
    ]

    /// "Here are some tips ...:", "There are several reasons why:", "..., try the following:".
    static func isAnnouncement(_ words: [String], endsWithColon: Bool) -> Bool {
        guard !words.isEmpty else { return false }
        // "Sure, here's a table ...", "Of course! Here are ...": the interjections first say nothing either.
        let opened = Array(words.drop { interjections.contains($0) })
        guard let first = opened.first else { return false }
        let second = opened.count > 1 ? opened[1] : ""
        if first == "here" && ["are", "is", "s", "'s"].contains(second) { return true }
        if opened.starts(with: ["here's"]) || words.contains("here's") && words.count < 14 { return true }
        guard endsWithColon else { return false }
        if words.contains("following") || words.contains("below") || words.last == "include" { return true }
        let quantifiers: Set<String> = ["some", "several", "few", "many", "various", "number", "these", "following"]
        return zip(words, words.dropFirst()).contains { quantifiers.contains($0) && listNouns.contains($1) }
            || words.contains { listNouns.contains($0) } && words.count <= 12
    }

    /// The words of `text` outside quotation marks, lowercased: a quoted formula ("Phrases like \"I'm so sorry for
    /// your loss\" can be comforting") is an example the answer gives, not its own pleasantry. An opening mark
    /// whose closing mark is in a later statement quotes the rest of this one.
    static func ownWords(_ text: String) -> [String] {
        var kept = ""
        var straight = false, curly = 0
        for c in text {
            switch c {
            case "\"": straight.toggle(); kept.append(" ")
            case "\u{201C}": curly += 1; kept.append(" ")
            case "\u{201D}": curly = max(0, curly - 1); kept.append(" ")
            default: if !straight && curly == 0 { kept.append(c) }
            }
        }
        return Tokenizer.tokens(kept).map { $0.text.lowercased().replacingApostrophes }
    }

    /// Sympathy, greetings and compliments to the asker, and short exclamations. `ownWords`: the words outside
    /// quotation marks (`ownWords(_:)`), where the formulas are looked for.
    static func isPleasantry(_ words: [String], ownWords: [String], scalars: [Unicode.Scalar], end: Int) -> Bool {
        let text = " " + ownWords.joined(separator: " ") + " "
        let formulas = [" sorry to hear ", " sorry for your ", " great question ", " good question ", " great goal ",
                        " excellent goal ", " great idea ", " congratulations ", " hope this helps ", " good luck ",
                        " best of luck ", " feel free to ", " let me know ", " lucky to have ", " it's great that you ",
                        " happy to help ", " glad you asked ", " what a great ", " thank you for ",
                        // Offers to help and closing wishes ("Sure, I can help with that", "I hope you enjoy ...").
                        " i can help ", " can help you with that ", " i'd be happy to ", " i would be happy to ",
                        " i'd love to help ", " hope you enjoy ", " hope you find this ", " hope this is helpful ",
                        // Boilerplate disclaimers of a list ("This list is not exhaustive").
                        " list is not exhaustive ", " not an exhaustive list "]
        if formulas.contains(where: text.contains) { return true }
        // "Excellent goal!", "That's a great goal!": an exclamation of a few words.
        return words.count <= 5 && endsWithExclamation(scalars, end)
    }

    /// "By following these tips, ...", "With these strategies, ...": a closing that restates the promise.
    static func isClosing(_ words: [String]) -> Bool {
        guard words.count >= 3 else { return false }
        let verbs: Set<String> = ["following", "practicing", "keeping", "implementing", "using", "incorporating",
                                  "applying", "trying", "taking"]
        let these: Set<String> = ["these", "this", "the", "those", "such"]
        if words[0] == "by", verbs.contains(words[1]), these.contains(words[2]) { return true }
        if (words[0] == "with" || words[0] == "following"), words[1] == "these" { return true }
        return false
    }

    /// The formulas of an answer's last paragraph that promise, praise or disclaim and say nothing of the
    /// question ("you can become a pro at finding it", "it can be a beautiful sight to behold", "these are just
    /// the basics", "safety should always come first"). Read only in the last block: the same words inside an
    /// answer's body are rare and may be part of a point. `ownWords`: the words outside quotation marks.
    static func isEmptyClosing(_ ownWords: [String]) -> Bool {
        let text = " " + ownWords.joined(separator: " ") + " "
        let formulas = [" well on your way ", " become a pro ", " be a pro ", " like a pro ", " in no time ",
                        " you'll find that ", " you will find that ", " sight to behold ", " should always come first ",
                        " always be your top priority ", " should be your top priority ", " always comes first ",
                        " happy cooking ", " happy dicing ", " happy learning ", " happy networking "]
        // A disclaimer only when nothing follows it: "these are just the basics, and individual needs may vary
        // ..." goes on to make a point.
        let disclaimers = [" just the basics ", " only the basics ", " just a starting point ", " just a few ideas "]
        return formulas.contains(where: text.contains) || disclaimers.contains(where: text.hasSuffix)
    }

    /// An opening sentence whose subject is the question's own words ("Dicing safely is a key skill",
    /// "Improving your networking skills at work can be beneficial").
    static func restates(_ text: String, _ promptStems: Set<String>) -> Bool {
        guard !promptStems.isEmpty else { return false }
        let stems = LexicalSpace.features(of: text).filter { !interjectionStems.contains($0) }
        guard !stems.isEmpty else { return true }
        let lead = stems.prefix(2)
        return lead.contains(where: promptStems.contains)
    }

    static func nextNonSpace(_ scalars: [Unicode.Scalar], _ end: Int) -> Unicode.Scalar? {
        var i = end
        while i < scalars.count {
            let c = scalars[i]
            if !(c.properties.isWhitespace || c == "*" || c == "_") { return c }
            if c == "\n" { return nil }
            i += 1
        }
        return nil
    }

    static func followedByComma(_ scalars: [Unicode.Scalar], _ end: Int) -> Bool { nextNonSpace(scalars, end) == "," }
    static func followedByColon(_ scalars: [Unicode.Scalar], _ end: Int) -> Bool { nextNonSpace(scalars, end) == ":" }
    static func endsWithExclamation(_ scalars: [Unicode.Scalar], _ end: Int) -> Bool { nextNonSpace(scalars, end) == "!" }
    static func endsWithQuestionMark(_ scalars: [Unicode.Scalar], _ end: Int) -> Bool { nextNonSpace(scalars, end) == "?" }
}
