import Foundation
import SlipwayCore
import SlipwayTUI

/// The dashboard's keys (after `[keys]` remaps) and theme (`ui.theme`), with every problem found
/// on the way, each naming its file and line: the dashboard reports them before it opens, and
/// `doctor` checks the same.
struct DashboardSetup {
    var keymap: Keymap
    var theme: Theme?
    var catalog: ThemeCatalog
    var keyProblems: [String]
    /// `ui.theme` that does not load, and theme files of the user's that are broken.
    var themeProblems: [String]

    static func load(paths: SlipwayPaths, config: SlipwayConfig, loaded: LoadedConfig?) -> DashboardSetup {
        let (keymap, remapProblems) = Keymap.standard.remapped(config.keys, file: paths.configFile) { loaded?.line(of: ["keys", $0]) }
        let catalog = ThemeCatalog(userDirectory: paths.userThemesDirectory)
        var themeProblems: [String] = []
        var theme: Theme?
        switch catalog.load(config.ui.theme) {
        case let .success(loaded): theme = loaded
        case let .failure(error): themeProblems.append("using the default theme: \(error)")
        }
        for entry in catalog.entries() where entry.name != config.ui.theme {
            if case .file = entry.origin, case let .failure(error) = catalog.load(entry.name) { themeProblems.append("\(error)") }
        }
        return DashboardSetup(keymap: keymap, theme: theme, catalog: catalog, keyProblems: remapProblems.map(\.description), themeProblems: themeProblems)
    }

    /// The theme first: it changes how everything looks.
    var problems: [String] { themeProblems + keyProblems }
}
