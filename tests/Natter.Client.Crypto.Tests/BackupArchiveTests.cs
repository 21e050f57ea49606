using System.Text;

namespace Natter.Client.Crypto.Tests;

public sealed class BackupArchiveTests
{
    private const string Passphrase = "correct horse battery staple";
    private const int Fast = BackupArchive.MinIterations;

    [Fact]
    public void An_archive_opens_with_its_passphrase_and_account_and_carries_its_work_factor_and_a_fresh_salt()
    {
        var archive = BackupArchive.Seal("the keys"u8, Passphrase, "15550001", Fast);
        var again = BackupArchive.Seal("the keys"u8, Passphrase, "15550001", Fast);

        Assert.Equal("NATTERBK"u8.ToArray(), archive[..8]);
        Assert.Equal(BackupArchive.Version, archive[8]);
        Assert.Equal([0x00, 0x01, 0x86, 0xA0], archive[9..13]); // 100,000, big-endian
        Assert.NotEqual(archive[13..29], again[13..29]);
        Assert.Equal(29 + "the keys".Length + 16, archive.Length);
        Assert.Equal("the keys", Encoding.UTF8.GetString(BackupArchive.Open(archive, Passphrase, "15550001")));
    }

    [Fact]
    public void The_same_passphrase_typed_in_another_unicode_form_opens_it()
    {
        var archive = BackupArchive.Seal("k"u8, "caf\u00e9 au lait", "u", Fast);

        Assert.Equal("k", Encoding.UTF8.GetString(BackupArchive.Open(archive, "cafe\u0301 au lait", "u")));
    }

    [Fact]
    public void A_wrong_passphrase_another_account_or_any_altered_byte_is_refused()
    {
        var archive = BackupArchive.Seal("the keys"u8, Passphrase, "15550001", Fast);

        Assert.Throws<InvalidMessageException>(() => BackupArchive.Open(archive, Passphrase + "!", "15550001"));
        Assert.Throws<InvalidMessageException>(() => BackupArchive.Open(archive, Passphrase, "15550002"));
        // Every byte but the work factor's (which a change makes another, slower or refused key) in one pass.
        foreach (var i in Enumerable.Range(0, archive.Length).Where(i => i is < 9 or >= 13))
        {
            var altered = archive.ToArray();
            altered[i] ^= 0x01;
            Assert.Throws<InvalidMessageException>(() => BackupArchive.Open(altered, Passphrase, "15550001"));
        }
        Assert.Throws<InvalidMessageException>(() => BackupArchive.Open(archive[..20], Passphrase, "15550001"));
    }

    [Fact]
    public void Weak_settings_are_refused_when_sealing_and_an_absurd_work_factor_when_opening()
    {
        Assert.Throws<ArgumentException>(() => BackupArchive.Seal("k"u8, "short", "u", Fast));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackupArchive.Seal("k"u8, Passphrase, "u", BackupArchive.MinIterations - 1));

        var archive = BackupArchive.Seal("k"u8, Passphrase, "u", Fast);
        archive[9] = 0xFF; // about 4.3 billion iterations: refused before any work
        Assert.Throws<InvalidMessageException>(() => BackupArchive.Open(archive, Passphrase, "u"));
    }

    [Fact]
    public void A_recovery_key_typed_back_in_groups_and_capitals_opens_what_it_sealed()
    {
        var key = BackupArchive.NewRecoveryKey();
        var archive = BackupArchive.Seal("k"u8, key, "u", Fast);
        var typed = string.Join(" ", key.ToUpperInvariant().Chunk(4).Select(c => new string(c)));

        Assert.Equal("k", Encoding.UTF8.GetString(BackupArchive.Open(archive, typed, "u")));
        Assert.Equal("k", Encoding.UTF8.GetString(BackupArchive.Open(archive, string.Join("-", key.Chunk(16).Select(c => new string(c))), "u")));
    }

    [Fact]
    public void A_recovery_key_is_64_hex_digits_and_new_each_time()
    {
        var key = BackupArchive.NewRecoveryKey();

        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.NotEqual(key, BackupArchive.NewRecoveryKey());
    }
}
