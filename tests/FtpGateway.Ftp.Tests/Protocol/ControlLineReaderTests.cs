using System.Text;
using FtpGateway.Ftp.Protocol;

namespace FtpGateway.Ftp.Tests.Protocol;

public sealed class ControlLineReaderTests
{
    private static async Task<List<ControlLine>> ReadAll(byte[] input, int max = 64)
    {
        var reader = new ControlLineReader(max);
        var stream = new MemoryStream(input);
        var lines = new List<ControlLine>();
        while (await reader.ReadLineAsync(stream, CancellationToken.None) is { } line)
        {
            lines.Add(line);
        }

        return lines;
    }

    private static async Task<string[]> Texts(byte[] input) => (await ReadAll(input)).Select(l => l.Text).ToArray();

    [Fact]
    public async Task CrLf_Lf_AndLoneCr_AllEndALine() =>
        Assert.Equal(["USER a", "PASS b", "ABOR", "NOOP"], await Texts("USER a\r\nPASS b\nABOR\rNOOP\r\n"u8.ToArray()));

    [Fact]
    public async Task TelnetInterruptAndSynch_BeforeAbor_AreStripped()
    {
        // IAC IP IAC DM ABOR CRLF, as RFC 959 §4.1.3 describes.
        Assert.Equal(["ABOR"], await Texts([255, 244, 255, 242, .. "ABOR\r\n"u8]));
    }

    [Fact]
    public async Task ALoneIac_WhoseCommandByteWentOutOfBand_DoesNotEatTheVerb()
    {
        // IAC IP IAC, then DM sent as urgent data (not in the stream), then ABOR.
        Assert.Equal(["ABOR"], await Texts([255, 244, 255, .. "ABOR\r\n"u8]));
    }

    [Fact]
    public async Task ADataMarkWhoseIacWentOutOfBand_DoesNotJoinTheVerb()
    {
        // BSD ftp: IAC IP IAC with MSG_OOB (the urgent IAC leaves the stream when read out of band), then DM ABOR.
        Assert.Equal(["ABOR"], await Texts([255, 244, 242, .. "ABOR\r\n"u8]));
        Assert.Equal(["STOR \U00080000"], await Texts([.. "STOR "u8, 0xF2, 0x80, 0x80, 0x80, .. "\r\n"u8])); // inside a line, 0xF2 is data
    }

    [Fact]
    public async Task TelnetNegotiation_IsDropped_AndIacIac_IsA255Byte()
    {
        var lines = await Texts([255, 253, 1, .. "NOOP\r\n"u8, .. "X"u8, 255, 255, .. "Y\r\n"u8]);
        Assert.Equal("NOOP", lines[0]);
        Assert.Equal("X\u00ffY", lines[1]); // 0xFF is not valid UTF-8 alone: the line is read as Latin-1
    }

    [Fact]
    public async Task Utf8Paths_AreDecoded() =>
        Assert.Equal(["STOR Grüße.txt"], await Texts(Encoding.UTF8.GetBytes("STOR Grüße.txt\r\n")));

    [Fact]
    public async Task AnOverlongLine_IsReportedOnce_AndTheNextLineIsIntact()
    {
        var lines = await ReadAll(Encoding.ASCII.GetBytes(new string('A', 500) + "\r\nNOOP\r\n"), max: 64);
        Assert.Equal(2, lines.Count);
        Assert.True(lines[0].TooLong);
        Assert.Equal("NOOP", lines[1].Text);
    }

    [Fact]
    public async Task DiscardBuffered_ForgetsWholeAndPartialLinesAlreadyRead()
    {
        var reader = new ControlLineReader(64);
        var stream = new MemoryStream("AUTH TLS\r\nUSER u\r\nPASS p\r\nNO"u8.ToArray());
        Assert.Equal("AUTH TLS", (await reader.ReadLineAsync(stream, CancellationToken.None))!.Value.Text);
        Assert.Equal(18, reader.DiscardBuffered()); // both other lines and "NO"; the LF of AUTH TLS's own CRLF is not a byte behind it
        Assert.Null(await reader.ReadLineAsync(stream, CancellationToken.None));
    }

    [Fact]
    public async Task DiscardBuffered_AfterAPlainAuthTls_DiscardsNothing()
    {
        // Regression: every explicit-FTPS login logged "Discarded 1 bytes sent in clear text": AUTH TLS's own LF.
        var reader = new ControlLineReader(64);
        var stream = new MemoryStream("AUTH TLS\r\n"u8.ToArray());
        Assert.Equal("AUTH TLS", (await reader.ReadLineAsync(stream, CancellationToken.None))!.Value.Text);
        Assert.Equal(0, reader.DiscardBuffered());
    }

    [Fact]
    public async Task TheLfOfACrLfSplitAcrossReads_IsNotAnEmptyLine()
    {
        var reader = new ControlLineReader(64);
        var pipe = new ChunkedStream(["NOOP\r"u8.ToArray(), "\nPWD\r\n"u8.ToArray()]);
        Assert.Equal("NOOP", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.Equal("PWD", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.Null(await reader.ReadLineAsync(pipe, CancellationToken.None));
    }

    [Fact]
    public async Task AWholeLineTakesItsCrLf_SoAnIdleSessionHoldsNothing_WhilePipelinedLinesAreHeld()
    {
        var reader = new ControlLineReader(64);
        var pipe = new ChunkedStream(["NOOP\r\n"u8.ToArray(), "PWD\r\nSYST\r\n"u8.ToArray()]);
        Assert.False(reader.HasInput);
        Assert.Equal("NOOP", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.False(reader.HasInput); // its LF was taken with it: the session waits with a zero-byte read, holding no buffer
        Assert.Equal(0, await reader.WaitForInputAsync(pipe));
        Assert.Equal("PWD", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.True(reader.HasInput); // SYST came with it: answered without waiting for the client
        Assert.Equal("SYST", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.False(reader.HasInput);
    }

    [Fact]
    public async Task BytesThatAreOnlyALineEndOrATelnetCommand_GiveAnEmptyLine_SoTheSessionWaitsForTheNextCommandItself()
    {
        var reader = new ControlLineReader(64);
        var pipe = new ChunkedStream(["NOOP\r"u8.ToArray(), "\n"u8.ToArray(), [255, 241], "PWD\r\n"u8.ToArray()]); // IAC NOP: a keep-alive
        Assert.Equal("NOOP", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
        Assert.Equal(string.Empty, (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text); // the split LF
        Assert.False(reader.HasInput);
        Assert.Equal(string.Empty, (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text); // IAC NOP
        Assert.Equal("PWD", (await reader.ReadLineAsync(pipe, CancellationToken.None))!.Value.Text);
    }

    private sealed class ChunkedStream(byte[][] chunks) : MemoryStream
    {
        private int _next;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty || _next == chunks.Length)
            {
                return ValueTask.FromResult(0); // a zero-byte read waits for data and consumes nothing, as a socket's does
            }

            var chunk = chunks[_next++];
            chunk.CopyTo(buffer);
            return ValueTask.FromResult(chunk.Length);
        }
    }
}
