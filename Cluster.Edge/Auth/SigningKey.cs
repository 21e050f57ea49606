using System.Security.Cryptography;

namespace Natter.Cluster.Edge.Auth;

/// <summary>Finds the token signing key: configured, or (embedded default) created once in the data directory.</summary>
public static class SigningKey
{
    public static byte[] Load(AuthOptions options, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(options.SigningKey)) return Convert.FromBase64String(options.SigningKey);

        var path = Path.Combine(dataDirectory, "token-signing.key");
        if (File.Exists(path)) return Convert.FromBase64String(File.ReadAllText(path).Trim());
        Directory.CreateDirectory(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(path, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }
}
