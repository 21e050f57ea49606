using System.Security.Cryptography;

namespace Natter.Cluster.Edge.Auth;

/// <summary>Finds the token signing key: configured, or (embedded default) created once in the data directory.</summary>
public static class SigningKey
{
    public const int MinimumBytes = 32;

    /// <param name="mayCreate">
    /// Only a process that also hosts the node role (the embedded default) may create a key: separate
    /// edges must share one, so an edge-only process without a configured key refuses to start.
    /// </param>
    public static byte[] Load(AuthOptions options, string dataDirectory, bool mayCreate)
    {
        if (!string.IsNullOrWhiteSpace(options.SigningKey))
        {
            var configured = Convert.FromBase64String(options.SigningKey);
            return configured.Length >= MinimumBytes
                ? configured
                : throw new InvalidOperationException($"Natter:Auth:SigningKey must be at least {MinimumBytes} bytes (base64)");
        }
        if (!mayCreate)
            throw new InvalidOperationException("Natter:Auth:SigningKey is required on an edge-only process: every edge must share one key");

        var path = Path.Combine(dataDirectory, "token-signing.key");
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        Directory.CreateDirectory(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(path, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }
}
