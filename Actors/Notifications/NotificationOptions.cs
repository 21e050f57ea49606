namespace Natter.Actors.Notifications;

/// <summary>The notification pipeline, bound from configuration section Natter:Notifications.</summary>
public sealed record NotificationOptions
{
    /// <summary>Kafka brokers ("host:port,..."). Empty: the embedded default, an in-process queue.</summary>
    public string? KafkaBootstrapServers { get; init; }

    public string Topic { get; init; } = "natter.notifications";

    /// <summary>The dispatcher's Kafka consumer group.</summary>
    public string ConsumerGroup { get; init; } = "natter-dispatch";

    /// <summary>At most one notification per chat and recipient in this window; the rest of a burst is counted into it.</summary>
    public TimeSpan CollapseWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Journal events resolved per batch; each batch's requests are published together.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>
    /// How long the projection reuses a recipient's presence answer (see RecentPresence): a busy group's members are
    /// asked once in this time, not once per message. Zero asks for every message.
    /// </summary>
    public TimeSpan PresenceReuse { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages older than this when the projection reaches them are not notified (a first start on an old journal).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Longest pause between retries of a failed publish or hand-off.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts at a push provider before a notification is given up (logged); publishing to Kafka never gives up.</summary>
    public int DeliveryAttempts { get; init; } = 5;

    public PushEndpoints Push { get; init; } = new();
}

/// <summary>Where each push adapter sends. Production values are the providers' own; tests point them at a local server.</summary>
public sealed record PushEndpoints
{
    public string FcmEndpoint { get; init; } = "https://fcm.googleapis.com";

    /// <summary>
    /// The Google service account key file (JSON, from the Firebase console) whose OAuth 2.0 access tokens authorize
    /// FCM sends (<see cref="FcmAccessTokens"/>). Unset: no FCM pushes.
    /// </summary>
    public string? FcmServiceAccountFile { get; init; }

    /// <summary>The Firebase project messages go to. Unset: the service account's project_id.</summary>
    public string? FcmProject { get; init; }

    public string ApnsEndpoint { get; init; } = "https://api.push.apple.com";
    public string ApnsTopic { get; init; } = "org.natter.app";

    /// <summary>The APNs signing key file (.p8, PEM) provider tokens are signed with (<see cref="ApnsProviderToken"/>). Unset: no APNs pushes.</summary>
    public string? ApnsSigningKeyFile { get; init; }

    /// <summary>The signing key's 10-character key id (the token's "kid").</summary>
    public string? ApnsKeyId { get; init; }

    /// <summary>The Apple developer team id (the token's "iss").</summary>
    public string? ApnsTeamId { get; init; }

    /// <summary>No longer read (a static token expires within the hour): set, it stops the start, naming what replaces it.</summary>
    public string? FcmAccessToken { get; init; }

    /// <summary>No longer read, as <see cref="FcmAccessToken"/>.</summary>
    public string? ApnsAuthToken { get; init; }

    /// <summary>An HTTP email API (JSON POST of to/subject/text). Empty: email notifications are not sent.</summary>
    public string? EmailEndpoint { get; init; }
    /// <summary>Web Push subscriptions must start with one of these (empty: any http or https URL; set it in production).</summary>
    public string[] WebPushAllowedPrefixes { get; init; } = [];

    /// <summary>
    /// The VAPID private key Web Push requests are signed with (RFC 8292; <see cref="VapidKeys"/>): PEM, or the 32-byte
    /// P-256 scalar in base64url. Needed where notifications are dispatched (nodes). Empty: pushes go unsigned, which
    /// push services refuse for subscriptions made with an application server key.
    /// </summary>
    public string? WebPushVapidPrivateKey { get; init; }

    /// <summary>The matching public key, for edges that hand it to browsers without holding the private key.</summary>
    public string? WebPushVapidPublicKey { get; init; }

    /// <summary>A contact for push services' operators: a mailto: or https: URL (the token's "sub").</summary>
    public string? WebPushVapidSubject { get; init; }
}
