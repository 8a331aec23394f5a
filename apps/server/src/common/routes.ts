/**
 * The route that stores uploads (POST) and serves the upload page (GET): the router's, and the
 * one path --health-path may not take (config/load-config.ts).
 */
export const UPLOAD_ROUTE = '/upload'
