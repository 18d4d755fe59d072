/**
 * The gateway service: HTTP APIs in front of functions, with API Gateway's routing, Lambda proxy
 * payload format 2.0, CORS, limits and error answers. Listeners adapt their requests to
 * `GatewayRequest` and write the `GatewayResponse` back.
 */
export { createGateway, type AnsweredRequest, type Gateway, type GatewayOptions, type GatewayRoute } from './service.js';
export { type GatewayRequest, type ApiGatewayV2Event } from './event.js';
export { GatewayLimits, GatewayMessages, type GatewayResponse } from './response.js';
export { type CorsConfig } from './cors.js';
