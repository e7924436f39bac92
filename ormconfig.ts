// The TypeORM CLI's data source (npm run migration:run | migration:show | migration:revert).
// It needs DATABASE_URL; the running service migrates by itself at start.
import { createDataSource } from './src/store/data-source';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL must be set for the TypeORM CLI');

export default createDataSource({ url, poolSize: 2 });
