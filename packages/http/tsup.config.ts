import { defineConfig } from 'tsup';

export default defineConfig({
  // One entry per profile, so a host that imports `@eventlog/http/native` never loads another
  // profile's code (nor `jose`, which only the proxy profile's login tokens and the viewer tokens use).
  entry: {
    index: 'src/index.ts',
    node: 'src/node.ts',
    native: 'src/native.ts',
    'new-api': 'src/new-api.ts',
    'xui-one': 'src/xui-one.ts',
    mediacp: 'src/mediacp.ts',
    'unifi-access': 'src/unifi-access.ts',
    'proxy-logs': 'src/proxy-logs.ts',
    'viewer-token': 'src/viewer-token.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
