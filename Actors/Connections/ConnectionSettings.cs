namespace Natter.Actors.Connections;

/// <summary>Per-connection limits, bound from configuration section Natter:Edge.</summary>
public sealed record ConnectionSettings
{
    /// <summary>
    /// Largest client frame accepted; a bigger one closes the socket with 1009. Room for a sealed send to a full
    /// group (5,120 envelopes of up to 256 bytes); a connection's buffer grows to it only for a frame that needs it.
    /// </summary>
    public int MaxFrameBytes { get; init; } = 2 * 1024 * 1024;

    /// <summary>Largest message body (decoded bytes) a send may carry.</summary>
    public int MaxBodyBytes { get; init; } = 64 * 1024;

    /// <summary>Frames queued for a client before it counts as too slow and is disconnected (close 4008).</summary>
    public int OutboundQueueFrames { get; init; } = 1024;

    /// <summary>How often the client should ping; presence is refreshed at this period too.</summary>
    public int HeartbeatSeconds { get; init; } = 30;

    /// <summary>
    /// A connection that sends no frame for this long is closed (4002) and its device counts as offline.
    /// Checked once per heartbeat period, so the close comes up to one period later.
    /// </summary>
    public int IdleTimeoutSeconds { get; init; } = 75;

    /// <summary>Typing frames a connection may send in a burst; the bucket refills one per second.</summary>
    public int TypingBurst { get; init; } = 5;

    /// <summary>Live-location updates a connection may send in a burst; the bucket refills one per second.</summary>
    public int LocationBurst { get; init; } = 10;

    /// <summary>
    /// Message sends a connection may make in a burst (WebSocket <c>send</c>; over REST, per user and edge process),
    /// refilled at <see cref="SendsPerSecond"/>; one beyond is refused with <c>rate_limited</c> and stored nowhere.
    /// </summary>
    public int SendBurst { get; init; } = 300;

    /// <summary>The refill of <see cref="SendBurst"/>; 0 turns the send limit off (the load harness does).</summary>
    public double SendsPerSecond { get; init; } = 30;

    /// <summary>Messages fetched per page while catching a device up.</summary>
    public int SyncPageSize { get; init; } = 200;

    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Refuse a send without envelopes (<c>sealed_send_required</c>): every body must be end-to-end encrypted.
    /// Natter's clients (the SDK's SecureDevice, the browser client) always seal; off by default only so that
    /// clients and tools that send opaque bodies (the load harness) keep working. Production turns it on.
    /// </summary>
    public bool RequireSealedSends { get; init; }

    /// <summary>
    /// How long an edge uses what it read of a user's devices for the envelope check of sealed sends
    /// (<c>KeyedDeviceCache</c>); a change of the user's devices drops it at once. 0 turns the cache off: every sealed
    /// send then asks every member's entity.
    /// </summary>
    public TimeSpan KeyedDevicesCacheTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Users whose devices an edge keeps at most (about 250 bytes plus 75 per device each).</summary>
    public int KeyedDevicesCacheUsers { get; init; } = 100_000;
}
