using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Natter.Messages.Users;

namespace Natter.Actors.Notifications;

/// <summary>
/// What a push carries when the registration holds the device's push keys (a P-256 public key and a 16-byte auth
/// secret, as a Web Push subscription has them; an app makes its own for FCM and APNs): the notification as JSON
/// encrypted to those keys (RFC 8291, aes128gcm), and a per-chat collapse tag the provider cannot link to a chat.
/// Without keys, FCM and APNs pushes name the chat in the clear, and a direct chat's id names both phone numbers.
/// </summary>
public static class PushPayloads
{
    // Keeps the tag apart from the auth secret's other use, the salt of RFC 8291's key derivation.
    private const string TagLabel = "natter-push-tag\0";

    /// <summary>The notification as the device reads it once decrypted: {title, body, chatId, seq, notificationId}.</summary>
    public static byte[] Json(PushNotification n) =>
        JsonSerializer.SerializeToUtf8Bytes(new { title = n.Title, body = n.Body, chatId = n.ChatId, seq = n.Seq, notificationId = n.Id });

    /// <summary>
    /// The notification encrypted to the registration's keys (RFC 8291); null without keys. Throws should stored keys
    /// not work (the edge checks them before storing): a push meant to be sealed is never sent in the clear instead.
    /// </summary>
    public static byte[]? Encrypted(PushRegistration registration, PushNotification n)
    {
        if (registration is not { P256dh: { } p256dh, Auth: { } auth }) return null;
        try
        {
            return WebPushEncryption.Encrypt(Json(n), Base64Url.DecodeFromChars(p256dh), Base64Url.DecodeFromChars(auth));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException)
        {
            throw new InvalidOperationException($"device {registration.Device}'s {registration.Platform} push keys cannot be used: {e.Message}", e);
        }
    }

    /// <summary>
    /// A chat's collapse tag for this registration: HMAC-SHA-256 of "natter-push-tag", a zero byte and the chat id under
    /// the registration's auth secret, the first 22 characters of its base64url (the provider never sees the secret, so
    /// it cannot test guesses of phone numbers against the tag; the device can compute it). Null without keys.
    /// </summary>
    public static string? ChatTag(PushRegistration registration, string chatId)
    {
        if (registration.Auth is not { } auth) return null;
        try
        {
            return Base64Url.EncodeToString(HMACSHA256.HashData(Base64Url.DecodeFromChars(auth), Encoding.UTF8.GetBytes(TagLabel + chatId)))[..22];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
