// Saving a license file: the signed document as the browser's download, nothing sent
// anywhere else.
import type { LicenseFile } from './api.ts';

const FILE_NAME = /^[0-9A-Z-]+\.lic$/;

/** The name to save the file under: the API's `<serial>.lic`, or that of `serial`. */
export function licenseFileName(file: Pick<LicenseFile, 'file_name'>, serial: string): string {
  if (FILE_NAME.test(file.file_name)) return file.file_name;
  const safe = serial.toUpperCase().replace(/[^0-9A-Z]/g, '');
  return `${safe || 'licencia'}.lic`;
}

/** The file's content: the JWS alone, as the desktop program reads it. */
export function licenseBlob(file: Pick<LicenseFile, 'license'>): Blob {
  return new Blob([file.license], { type: 'application/octet-stream' });
}

/** Hands `blob` to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
