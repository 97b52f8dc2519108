// A QR code drawn in the page (an <svg> built here): the TOTP secret's `otpauth://` URI
// never leaves the browser for a picture service. The symbol comes from the `qr` package
// (web/README.md, "Dependencies").
import encodeQR from 'qr';

const SVG = 'http://www.w3.org/2000/svg';
/** The light margin scanners need around the symbol, in modules (ISO/IEC 18004: 4). */
const QUIET_ZONE = 4;

/** The symbol's dark modules, row by row, its light margin included. */
export function qrModules(text: string): boolean[][] {
  return encodeQR(text, 'raw', { ecc: 'medium', border: QUIET_ZONE });
}

/** An image of `text` as a QR code, named `label` for screen readers. */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const modules = qrModules(text);
  const size = modules.length;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('class', 'qr');
  const background = document.createElementNS(SVG, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#fff');
  const path = document.createElementNS(SVG, 'path');
  const d: string[] = [];
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  path.setAttribute('d', d.join(''));
  path.setAttribute('fill', '#000');
  svg.append(background, path);
  return svg;
}
