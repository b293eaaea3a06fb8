import Testing
import SlipwayProviders

@Suite("Provider kinds")
struct ProviderKindTests {
    @Test("Bitbucket's default URLs are the documented ones")
    func bitbucketDefaults() {
        #expect(ProviderKind.bitbucket.defaultAPIURL == "https://api.bitbucket.org/2.0")
        #expect(ProviderKind.bitbucket.defaultWebURL == "https://bitbucket.org")
    }

    @Test("kinds sort in the order the dashboard lists them")
    func order() {
        #expect([ProviderKind.git, .gitlab, .bitbucket, .github].sorted() == [.bitbucket, .github, .gitlab, .git])
        #expect(ProviderKind(rawValue: "bitbucket") == .bitbucket)
    }
}
