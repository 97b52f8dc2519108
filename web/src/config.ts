// Build-time settings (Vite replaces import.meta.env.* when it builds).

/** Where the API lives: "/api" behind the dev/preview proxy, the API's URL in production. */
export const API_BASE_URL: string = import.meta.env.VITE_API_BASE_URL || '/api';

/** Shown in the page header and title. */
export const VENDOR_NAME: string = import.meta.env.VITE_VENDOR_NAME || 'Portal de clientes';

/** The vendor's download centre (the new version of an upgrade comes from there). */
export const DOWNLOAD_URL: string = import.meta.env.VITE_DOWNLOAD_URL || 'https://www.aspel.com.mx/descargas';

/** Longest wait for one API call. Under `vite` (development) a function's first call
 *  may build it, so the wait is longer there. */
export const API_TIMEOUT_MS: number = import.meta.env.DEV ? 300_000 : 30_000;
