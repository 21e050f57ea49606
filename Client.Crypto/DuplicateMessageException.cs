namespace Natter.Client.Crypto;

/// <summary>A message whose key is already used and deleted: a replay or a redelivery. Safe to drop.</summary>
public sealed class DuplicateMessageException(string message) : InvalidMessageException(message);
