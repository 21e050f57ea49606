using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Natter.Messages.Users;

namespace Natter.Actors.Notifications;

/// <summary>
/// Firebase Cloud Messaging, HTTP v1 API: one message per device token, collapsed per chat on Android, sent with the
/// service account's access token (renewed once if FCM refuses it). A token FCM calls UNREGISTERED is gone.
/// </summary>
public sealed class FcmAdapter(HttpClient http, PushEndpoints endpoints, FcmAccessTokens tokens) : IPushAdapter
{
    public string Platform => "fcm";

    public async Task SendAsync(PushRegistration registration, PushNotification n, CancellationToken ct)
    {
        for (var renewed = false; ; renewed = true)
        {
            var accessToken = await tokens.CurrentAsync(ct);
            using var request = Request(registration, n);
            request.Headers.Authorization = new("Bearer", accessToken);
            using var response = await http.SendAsync(request, ct);
            if (response.IsSuccessStatusCode) return;
            if (response.StatusCode == HttpStatusCode.Unauthorized && !renewed)
            {
                tokens.Refused(accessToken);
                continue;
            }
            var error = ErrorCode(await response.Content.ReadAsStringAsync(ct));
            // Only UNREGISTERED says the token itself is dead; INVALID_ARGUMENT may be the message's fault, and
            // pruning on it would drop every user's registration should a payload ever be malformed.
            if (error == "UNREGISTERED") throw new PushRegistrationGoneException(Platform, error);
            throw new HttpRequestException($"FCM answered {(int)response.StatusCode} {error}", null, response.StatusCode);
        }
    }

    private HttpRequestMessage Request(PushRegistration registration, PushNotification n) =>
        new(HttpMethod.Post, $"{endpoints.FcmEndpoint.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(string.IsNullOrWhiteSpace(endpoints.FcmProject) ? tokens.ProjectId : endpoints.FcmProject)}/messages:send")
        {
            Content = JsonContent.Create(new { message = Message(registration, n) }),
        };

    /// <summary>
    /// With the device's push keys, the notification encrypted to them, collapsed by a tag Google cannot link to the
    /// chat: on Android a data-only message the app decrypts and shows; on iOS (an app registered with FCM) an alert
    /// that says nothing, which the app's notification service extension replaces (mutable-content). Without keys, a
    /// notification naming the chat.
    /// </summary>
    private static object Message(PushRegistration registration, PushNotification n) =>
        PushPayloads.Encrypted(registration, n) is { } encrypted && PushPayloads.ChatTag(registration, n.ChatId) is { } tag
            ? new
            {
                token = registration.Token,
                data = new Dictionary<string, string> { ["encrypted"] = Convert.ToBase64String(encrypted) },
                android = new { collapse_key = tag, priority = "high" },
                apns = new
                {
                    headers = new Dictionary<string, string> { ["apns-collapse-id"] = tag },
                    payload = new
                    {
                        aps = new Dictionary<string, object>
                        {
                            ["alert"] = new { title = n.Title, body = "New message" },
                            ["mutable-content"] = 1,
                            ["thread-id"] = tag,
                        },
                    },
                },
            }
            : (object)new
            {
                token = registration.Token,
                notification = new { title = n.Title, body = n.Body },
                data = new Dictionary<string, string> { ["chatId"] = n.ChatId, ["seq"] = n.Seq.ToString(), ["notificationId"] = n.Id },
                android = new { collapse_key = n.ChatId },
            };

    /// <summary>FCM's error code (error.details[].errorCode, else error.status), or empty.</summary>
    public static string ErrorCode(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object) return "";
            if (error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array)
                foreach (var detail in details.EnumerateArray())
                    if (detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("errorCode", out var code) && code.ValueKind == JsonValueKind.String)
                        return code.GetString()!;
            return error.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String ? status.GetString()! : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }
}
