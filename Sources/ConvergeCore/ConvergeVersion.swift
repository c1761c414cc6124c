/// The version of Converge, shown by `converge --version` and stored with every analysis.
public enum ConvergeVersion {
    public static let current = "0.1.0"
}
