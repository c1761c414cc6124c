import ArgumentParser

/// `converge surveys`: the stored surveys.
struct Surveys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, export, resume and delete stored surveys.",
        discussion: "An ID may be shortened to a unique prefix of at least 4 characters.",
        subcommands: [SurveysList.self, SurveysShow.self, SurveysExport.self, SurveysResume.self, SurveysDelete.self]
    )
}
