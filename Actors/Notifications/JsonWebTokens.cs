using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Natter.Actors.Notifications;

/// <summary>Compact JWS (RFC 7515) as the push providers take them: base64url(header) "." base64url(claims) "." signature.</summary>
public static class JsonWebTokens
{
    /// <param name="sign">Signs the ASCII signing input; ES256 wants r || s (IEEE P1363), .NET's default for ECDsa.SignData.</param>
    public static string Sign(object header, object claims, Func<byte[], byte[]> sign)
    {
        var signingInput = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(header))
                           + "." + Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims));
        return signingInput + "." + Base64Url.EncodeToString(sign(Encoding.ASCII.GetBytes(signingInput)));
    }
}
