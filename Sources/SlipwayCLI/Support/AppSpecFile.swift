import Foundation
import SlipwayCore

/// An App Platform app spec the user wrote, read for `apps create --spec`: JSON (App Platform's
/// own form, as `doctl apps spec get --format json` prints it), one object, its `name` filled in
/// from the command's NAME or required to be it. App Platform validates everything else.
enum AppSpecFile {
    static func read(_ file: String, name: String) throws -> Data {
        let data: Data
        do {
            data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw SlipwayCLIError.failure("cannot read the spec \(file): \((error as NSError).localizedDescription)")
        }
        let shown = file == "-" ? "the spec on stdin" : file
        guard !data.isEmpty else { throw SlipwayCLIError.failure("\(shown) is empty") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            let text = String(decoding: data.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.hasPrefix("{") {
                throw SlipwayCLIError.failure("\(shown) is not JSON: Slipway reads App Platform specs as JSON ('doctl apps spec get APP --format json' prints one; 'yq -o json' converts YAML)")
            }
            throw SlipwayCLIError.failure("\(shown) is not valid JSON: \((error as NSError).localizedDescription)")
        }
        guard var spec = object as? [String: Any] else { throw SlipwayCLIError.failure("\(shown) is not an app spec: it must be one JSON object") }
        // `doctl apps get --format json` wraps the spec in the app; take the spec out of it.
        if spec["spec"] is [String: Any], spec["name"] == nil, let inner = spec["spec"] as? [String: Any] { spec = inner }
        switch spec["name"] {
        case nil:
            spec["name"] = name
        case let given as String where given == name:
            break
        case let given as String:
            throw SlipwayCLIError.failure("\(shown) names the app '\(given)', not '\(name)'; use the same name or leave it out of the spec")
        default:
            throw SlipwayCLIError.failure("\(shown): name must be a string")
        }
        return try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
    }
}
