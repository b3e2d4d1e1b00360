import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  // The library, BullMQ and the Redis client are dependencies, resolved by the user's install.
  external: ['b24notify', 'bullmq', 'ioredis'],
});
