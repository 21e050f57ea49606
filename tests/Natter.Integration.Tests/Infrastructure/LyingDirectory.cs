using System.Text;
using System.Text.Json.Nodes;
using Natter.Client;
using Natter.Client.Crypto;

namespace Natter.Integration.Tests.Infrastructure;

/// <summary>
/// A compromised server, as a client sees it: the real server behind an HTTP handler that rewrites its answers on chosen
/// paths (docs/testing.md, "Testing a client against a lying server").
/// </summary>
public static class LyingDirectory
{
    /// <summary>A client of the real server whose answers on paths containing <paramref name="path"/> pass through <paramref name="rewrite"/>.</summary>
    public static TamperedApi Tampering(InProcessServer server, string path, Action<string, JsonObject> rewrite) =>
        TamperingAny(server, path, (p, json) => { if (json is JsonObject body) rewrite(p, body); });

    /// <summary>As above, for answers of any JSON shape (an array, as <c>GET /api/devices</c> answers).</summary>
    public static TamperedApi TamperingAny(InProcessServer server, string path, Action<string, JsonNode> rewrite) =>
        new(new HttpClient(new RewritingHandler(path, rewrite)) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) });

    /// <summary>
    /// A listing's <c>deviceList</c> signed again by <paramref name="signer"/>, with <paramref name="replacing"/> swapped for the
    /// signer's own key and <paramref name="adding"/> appended: what a server holding a key of its own would serve.
    /// </summary>
    public static void ResignList(JsonObject list, string userId, IdentityKeyPair signer, byte[]? replacing = null, byte[]? adding = null)
    {
        var keys = list["keys"]!.AsArray().Select(k => Convert.FromBase64String(k!.GetValue<string>()))
            .Select(k => replacing is not null && k.AsSpan().SequenceEqual(replacing) ? signer.IdentityKey : k).ToList();
        if (adding is not null) keys.Add(adding);
        var version = list["version"]!.GetValue<long>();
        list["keys"] = new JsonArray(keys.Select(k => (JsonNode)JsonValue.Create(Convert.ToBase64String(k))!).ToArray());
        list["signature"] = Convert.ToBase64String(signer.SignDeviceList(userId, version, keys));
    }

    public sealed class TamperedApi(HttpClient http) : IDisposable
    {
        public NatterHttpClient Api { get; } = new(http);

        public void Dispose() => http.Dispose();
    }

    private sealed class RewritingHandler(string path, Action<string, JsonNode> rewrite) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var response = await base.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode || !request.RequestUri!.AbsolutePath.Contains(path)) return response;
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct));
            if (json is null) return response;
            rewrite(request.RequestUri.AbsolutePath, json);
            response.Content = new StringContent(json.ToJsonString(), Encoding.UTF8, "application/json");
            return response;
        }
    }
}
