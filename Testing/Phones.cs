namespace Natter.Testing;

/// <summary>Unique phone numbers per test, so tests sharing a server never share users.</summary>
public static class Phones
{
    private static long _next = 1_555_000_0000L + Random.Shared.Next(0, 1_000_000) * 1000L;

    public static string Next() => "+" + Interlocked.Increment(ref _next);
}
