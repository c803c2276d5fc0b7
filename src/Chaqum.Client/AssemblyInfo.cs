// The tests check the wire details (fd checks, log format) directly.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Chaqum.Tests")]
