namespace Natter.Testing;

/// <summary>Folders for a test's or a benchmark run's data, under the temp folder's <c>natter-tests</c>.</summary>
public static class TempDirectory
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), "natter-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>
    /// Removes a folder made by <see cref="Create"/> once its processes have stopped. A benchmark run's journal is
    /// hundreds of MB: left behind, repeated runs fill the disk. One that cannot be removed is left.
    /// </summary>
    public static void Delete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* left behind: harmless, only space */ }
    }
}
