using System.Diagnostics.Metrics;

namespace Natter.Cluster.Edge;

/// <summary>
/// The edge's own instruments (meter <c>Natter.Edge</c>, readable with dotnet-counters or any OpenTelemetry
/// exporter): which layer answered each accepted WebSocket upgrade, so an operator sees when sockets fall back to
/// ASP.NET Core's middleware and its larger cost per connection.
/// </summary>
public sealed class EdgeMetrics
{
    public const string MeterName = "Natter.Edge";
    public const string UpgradesName = "natter.edge.websocket.upgrades";
    public const string HandshakeTag = "natter.handshake";
    /// <summary>Answered on the raw connection by <see cref="Sockets.ConnectionUpgrade"/>.</summary>
    public const string ConnectionHandshake = "connection";
    /// <summary>Answered by ASP.NET Core's WebSocket middleware.</summary>
    public const string HttpHandshake = "http";

    private readonly Counter<long> _upgrades;

    public EdgeMetrics(IMeterFactory meters)
    {
        _upgrades = meters.Create(MeterName).CreateCounter<long>(UpgradesName, unit: "{upgrade}",
            description: "WebSocket upgrades accepted on /ws, by the layer that answered the handshake");
    }

    public void Upgraded(string handshake) => _upgrades.Add(1, new KeyValuePair<string, object?>(HandshakeTag, handshake));
}
