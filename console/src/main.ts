// Entry point of the console bundle: defines the elements; index.html holds <vigil-app>.
import './views/vigil-app.js';
