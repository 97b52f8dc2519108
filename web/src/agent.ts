// A session's browser and system in words, from its User-Agent ("Chrome en Linux"), so
// that a customer recognises a session in the list without reading the raw string.

const BROWSERS: Array<[RegExp, string]> = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bHeadlessChrome\//, 'Chrome'],
  [/\bChrome\/|\bCriOS\/|\bChromium\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPad\b|\biPod\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Chrome en Linux", "Safari en iOS", "Firefox"; a program that is no browser keeps its
 *  own name ("curl/8.5.0"); an empty agent is "Navegador desconocido". */
export function describeAgent(userAgent: string): string {
  const ua = userAgent.trim();
  if (ua === '') return 'Navegador desconocido';
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(ua))?.[1];
  if (browser && system) return `${browser} en ${system}`;
  if (browser) return browser;
  if (system) return `Navegador en ${system}`;
  // Not a browser: its first product token, short enough for a line.
  const first = ua.split(/\s+/)[0]!;
  return first.length > 40 ? `${first.slice(0, 39)}…` : first;
}
