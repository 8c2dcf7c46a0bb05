import { appendFileSync } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createTestMcpServer } from './test-mcp-server';

/**
 * The test MCP server over stdio: the worker runs it (bundled by buildStdioMcpServer). What its
 * tools do goes, a line each, to the file MCP_TEST_EVENTS names.
 */
const log = process.env.MCP_TEST_EVENTS;
const server = createTestMcpServer({
  record: (event) => {
    if (log) appendFileSync(log, `${event}\n`);
  },
  crash: () => process.exit(3),
});
void server.connect(new StdioServerTransport());
