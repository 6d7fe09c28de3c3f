// The gateway's local-disk provider, and so these tests, run on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
