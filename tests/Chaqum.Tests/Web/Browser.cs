using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Chaqum.Tests.Web;

/// <summary>
/// Debian's headless Chromium, driven by Debian's chromedriver through Selenium: nothing
/// is downloaded (no Selenium Manager, no bundled browser). Dispose quits the browser and
/// stops the driver, so neither outlives the test.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private readonly ChromeDriverService _service;
    private readonly string _profile = Directory.CreateTempSubdirectory("chaqum-chromium-").FullName;
    public ChromeDriver Driver { get; }

    public static bool Available => File.Exists(ChromiumPath) && File.Exists(DriverPath);

    public Browser()
    {
        if (!Available) Assert.Fail($"the browser tests need {ChromiumPath} and {DriverPath} (Debian: apt-get install chromium chromium-driver; .ci/run installs them)");
        _service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        _service.HideCommandPromptWindow = true;
        _service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
            "--no-first-run", "--disable-extensions", "--disable-background-networking", "--user-data-dir=" + _profile);
        Driver = new ChromeDriver(_service, options, Deadline.Scale(TimeSpan.FromSeconds(90)));
        Driver.Manage().Timeouts().PageLoad = Deadline.Scale(TimeSpan.FromSeconds(60));
    }

    public void Go(string url) => Driver.Navigate().GoToUrl(url);

    /// <summary>The first element the selector finds, waiting for it to appear.</summary>
    public IWebElement Wait(By by, Func<IWebElement, bool>? until = null, string? what = null)
    {
        IWebElement? found = null;
        Poll.Until(() =>
            {
                // The page's script may swap the element for a fresh one while we look.
                try { found = Driver.FindElements(by).FirstOrDefault(e => until is null || until(e)); }
                catch (StaleElementReferenceException) { found = null; }
                return found is not null;
            },
            () => $"{what ?? $"element {by}"} on {Driver.Url}; the page says:\n{Page()}\nthe browser's console:\n{Console()}");
        return found!;
    }

    private string Page()
    {
        try { return Driver.FindElement(By.TagName("body")).Text; }
        catch (WebDriverException e) { return e.Message; }
    }

    private string Console()
    {
        try { return string.Join("\n", Driver.Manage().Logs.GetLog(LogType.Browser).Select(l => l.Message)); }
        catch (WebDriverException e) { return e.Message; }
    }

    public string Text(By by) => Driver.FindElement(by).Text;

    /// <summary>A full-page PNG under the test's work directory, attached to the test.</summary>
    public string Screenshot(string name)
    {
        // The whole page, not just the viewport: Chromium's own capture beyond the viewport
        // (DevTools Page.captureScreenshot), clipped to the page's size. Growing the window
        // instead left the bottom out, since the viewport is the window less the browser's
        // own frame.
        var size = (IReadOnlyCollection<object>)Driver.ExecuteScript(
            "var e = document.documentElement; return [Math.max(e.scrollWidth, e.clientWidth), Math.max(e.scrollHeight, document.body.scrollHeight, e.clientHeight)];")!;
        var (width, height) = (Convert.ToInt32(size.First()), Math.Min(Convert.ToInt32(size.Last()), 8000));
        var shot = (Dictionary<string, object?>?)Driver.ExecuteCdpCommand("Page.captureScreenshot", new Dictionary<string, object?>
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object?> { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
        });
        var dir = Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".png");
        File.WriteAllBytes(path, Convert.FromBase64String((string)shot!["data"]!));
        TestContext.AddTestAttachment(path, name);
        return path;
    }

    public void Dispose()
    {
        try { Driver.Quit(); }
        catch (WebDriverException) { }
        Driver.Dispose();
        _service.Dispose();
        try { Directory.Delete(_profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
