using System.Buffers.Text;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Messages.Users;

namespace Natter.Actors.Notifications;

/// <summary>What a push says: never message content (it is ciphertext to the server), at most who sent it.</summary>
public sealed record PushNotification(string Id, string ChatId, long Seq, string Sender, int Count, bool Preview)
{
    public string Title => "Natter";

    public string Body => (Count, Preview) switch
    {
        (> 1, true) => $"{Count} new messages, the latest from +{Sender}",
        (> 1, false) => $"{Count} new messages",
        (_, true) => $"New message from +{Sender}",
        _ => "New message",
    };
}

/// <summary>
/// One push provider: a real HTTP client against its configured endpoint. Throws on anything but 2xx:
/// <see cref="PushRegistrationGoneException"/> when the provider says the registration will never work again,
/// <see cref="HttpRequestException"/> with the status otherwise.
/// </summary>
public interface IPushAdapter
{
    string Platform { get; }

    Task SendAsync(PushRegistration registration, PushNotification notification, CancellationToken ct);
}

/// <summary>
/// The provider says this registration is gone for good (the app was uninstalled, the token belongs to no app, the
/// browser's subscription expired): the dispatcher removes it from the device, as providers ask senders to.
/// </summary>
public sealed class PushRegistrationGoneException(string platform, string reason)
    : Exception($"{platform} says the registration is gone: {reason}")
{
    public string Reason { get; } = reason;
}

/// <summary>
/// Web Push (RFC 8030): the registration's token is the browser's subscription endpoint. With the subscription's
/// keys the push carries the notification as JSON (title, body, chatId, seq, notificationId) encrypted to them
/// (RFC 8291, aes128gcm), which the push service cannot read; without them it carries nothing and the service
/// worker wakes and syncs. TTL a day; with the keys, a Topic per chat (<see cref="PushPayloads.ChatTag"/>) lets a newer
/// push replace an undelivered one. Signed with the VAPID keys when they are configured (RFC 8292).
/// </summary>
public sealed class WebPushAdapter(HttpClient http, PushEndpoints endpoints, VapidKeys? vapid = null, TimeProvider? clock = null) : IPushAdapter
{
    public string Platform => "webpush";

    public async Task SendAsync(PushRegistration registration, PushNotification n, CancellationToken ct)
    {
        if (!Uri.TryCreate(registration.Token, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("https" or "http"))
            throw new InvalidOperationException("a Web Push registration must be the subscription's endpoint URL");
        if (!Allowed(endpoint, endpoints.WebPushAllowedPrefixes))
            throw new InvalidOperationException($"Web Push endpoint {endpoint.Host} is not allowed");
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = Payload(registration, n) };
        request.Headers.Add("TTL", "86400");
        request.Headers.Add("Urgency", "high");
        // Without the subscription's keys no Topic: any plain function of a direct chat's id gives its phone numbers away.
        if (PushPayloads.ChatTag(registration, n.ChatId) is { } topic) request.Headers.Add("Topic", topic);
        if (vapid is not null)
            request.Headers.TryAddWithoutValidation("Authorization", vapid.AuthorizationFor(endpoint, (clock ?? TimeProvider.System).GetUtcNow()));
        using var response = await http.SendAsync(request, ct);
        // RFC 8030 section 7.3: an expired or unsubscribed subscription answers 404 (services use 410 as well).
        if (response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Gone)
            throw new PushRegistrationGoneException(Platform, $"{(int)response.StatusCode} from {endpoint.Host}");
        response.EnsureSuccessStatusCode();
    }

    private static ByteArrayContent Payload(PushRegistration registration, PushNotification n)
    {
        if (PushPayloads.Encrypted(registration, n) is not { } body) return new ByteArrayContent([]);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/octet-stream");
        content.Headers.ContentEncoding.Add("aes128gcm");
        return content;
    }

    /// <summary>Compares parsed scheme, host, port and path prefix: a raw string prefix would let "https://allowed@elsewhere/" through.</summary>
    public static bool Allowed(Uri endpoint, IReadOnlyList<string> prefixes) =>
        prefixes.Count == 0 || prefixes.Any(p => Uri.TryCreate(p, UriKind.Absolute, out var allowed)
            && endpoint.Scheme == allowed.Scheme && string.Equals(endpoint.Host, allowed.Host, StringComparison.OrdinalIgnoreCase)
            && endpoint.Port == allowed.Port && string.IsNullOrEmpty(endpoint.UserInfo)
            && endpoint.AbsolutePath.StartsWith(allowed.AbsolutePath, StringComparison.Ordinal));

}

/// <summary>Email through an HTTP email API: a JSON POST of to, subject and text. Not configured: nothing is sent.</summary>
public sealed class EmailAdapter(HttpClient http, PushEndpoints endpoints) : IPushAdapter
{
    public string Platform => "email";

    public async Task SendAsync(PushRegistration registration, PushNotification n, CancellationToken ct)
    {
        if (endpoints.EmailEndpoint is not { } endpoint) return;
        using var response = await http.PostAsJsonAsync(endpoint, new { to = registration.Token, subject = n.Title, text = n.Body }, ct);
        response.EnsureSuccessStatusCode();
    }
}
