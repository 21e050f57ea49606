using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Messages.Users;

namespace Natter.Actors.Notifications;

/// <summary>
/// Apple Push Notification service: POST /3/device/{token} over HTTP/2 (APNs speaks nothing else), collapsed per
/// chat with apns-collapse-id, authenticated with the provider token (signed anew if APNs calls it expired). Only
/// 410 says the device token is gone (the app was uninstalled): BadDeviceToken and DeviceTokenNotForTopic come
/// back for every device when ApnsEndpoint names the wrong environment or ApnsTopic the wrong app, so those keep
/// the registration and are logged.
/// </summary>
public sealed class ApnsAdapter(HttpClient http, PushEndpoints endpoints, ApnsProviderToken providerToken) : IPushAdapter
{
    public string Platform => "apns";

    public async Task SendAsync(PushRegistration registration, PushNotification n, CancellationToken ct)
    {
        for (var renewed = false; ; renewed = true)
        {
            var token = providerToken.Current();
            using var request = Request(registration, n);
            request.Headers.Authorization = new("bearer", token);
            using var response = await http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode) return;
            var reason = Reason(await response.Content.ReadAsStringAsync(ct));
            if (reason == "ExpiredProviderToken" && !renewed && providerToken.Expired(token)) continue;
            if (response.StatusCode == HttpStatusCode.Gone) throw new PushRegistrationGoneException(Platform, reason.Length > 0 ? reason : "410");
            if (reason == "ExpiredProviderToken")
                throw new InvalidOperationException("APNs calls a freshly signed provider token expired: is this machine's clock right?");
            throw new HttpRequestException($"APNs answered {(int)response.StatusCode} {reason}", null, response.StatusCode);
        }
    }

    private HttpRequestMessage Request(PushRegistration registration, PushNotification n)
    {
        var encrypted = PushPayloads.Encrypted(registration, n);
        var thread = encrypted is null ? n.ChatId : PushPayloads.ChatTag(registration, n.ChatId)!;
        var request = new HttpRequestMessage(HttpMethod.Post, $"{endpoints.ApnsEndpoint.TrimEnd('/')}/3/device/{Uri.EscapeDataString(registration.Token)}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = JsonContent.Create<object>(encrypted is null
                ? new
                {
                    aps = new Dictionary<string, object> { ["alert"] = new { title = n.Title, body = n.Body }, ["thread-id"] = thread },
                    chatId = n.ChatId,
                    seq = n.Seq,
                }
                // With the device's push keys: an alert that says nothing, which the app's notification service
                // extension replaces with what it decrypts (mutable-content), and no chat in the clear.
                : new
                {
                    aps = new Dictionary<string, object>
                    {
                        ["alert"] = new { title = n.Title, body = "New message" }, ["thread-id"] = thread, ["mutable-content"] = 1,
                    },
                    encrypted = Convert.ToBase64String(encrypted),
                }),
        };
        request.Headers.Add("apns-topic", endpoints.ApnsTopic);
        request.Headers.Add("apns-push-type", "alert");
        request.Headers.Add("apns-collapse-id", thread.Length <= 64 ? thread : thread[..64]);
        return request;
    }

    /// <summary>The "reason" of APNs' error body, or empty.</summary>
    public static string Reason(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("reason", out var reason)
                   && reason.ValueKind == JsonValueKind.String ? reason.GetString()! : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }
}
