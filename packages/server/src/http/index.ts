export { buildHttpApp } from './build-http-app.ts';
export type { RouteModule, HttpAppOptions } from './build-http-app.ts';
export { errorCatalogue, statusOf } from './error-catalogue.ts';
export { requirePermission, authenticateRequest, bearerSecurity, SESSION_COOKIE, sessionCookieOf } from './auth.ts';
export type { SessionAuthenticator } from './auth.ts';
export type { ErrorBody } from './error-handler.ts';
export { renderErrorsDoc } from './errors-doc.ts';
export { startHttpsListener, serverNames } from './https-listener.ts';
export type { HttpsListener, HttpsListenerOptions } from './https-listener.ts';
