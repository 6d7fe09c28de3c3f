// The benchmark reads /proc for memory figures and drives Linux binaries: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
