import type http from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MAX_REQUEST_BODY_BYTES, type McpHandler } from './http-server.js';
import { createMcpServer, rejectUnknownTools, TOOL_NAMES, type ToolContext } from './mcp-server.js';

/**
 * The MCP endpoint: Streamable HTTP, stateless, JSON responses, a fresh server per request. Kept
 * out of http-server.ts so that the MCP SDK loads after the sidecar listens (serve.ts).
 */
export function mcpHandler(context: ToolContext): McpHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const server = createMcpServer(context);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: MAX_REQUEST_BODY_BYTES });
    res.once('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    rejectUnknownTools(transport, TOOL_NAMES);
    await transport.handleRequest(req, res);
  };
}
