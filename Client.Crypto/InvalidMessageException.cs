namespace Natter.Client.Crypto;

/// <summary>An envelope or body that does not decrypt: malformed, tampered with, or not for this device. State is unchanged.</summary>
public class InvalidMessageException(string message) : Exception(message);
