global using NUnit.Framework;
global using Chaqum.Tests.Support;
