namespace FtpGateway.Benchmarks;

/// <summary>Medians and the printed comparison table shared by the S3 and Azure benchmarks.</summary>
internal static class ObjectStoreReport
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    public static void Print(string store, string gateway, string sdk, IReadOnlyList<(double GwUp, double GwDown, double SdkUp, double SdkDown)> samples, double peakRssMiB)
    {
        var (gu, gd, su, sd) = (Median(samples.Select(s => s.GwUp)), Median(samples.Select(s => s.GwDown)), Median(samples.Select(s => s.SdkUp)), Median(samples.Select(s => s.SdkDown)));
        Console.WriteLine();
        Console.WriteLine($"{store,-26} {"upload MB/s",12} {"download MB/s",14} {"peak RSS MiB",13}");
        Console.WriteLine($"{gateway,-26} {gu,12:F0} {gd,14:F0} {peakRssMiB,13:F1}");
        Console.WriteLine($"{sdk,-26} {su,12:F0} {sd,14:F0} {"",13}");
        Console.WriteLine($"{"ratio gateway/SDK",-26} {gu / su,12:F2} {gd / sd,14:F2}");
        Console.WriteLine();
    }
}
