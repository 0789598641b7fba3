import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

// `make bench-app` reads the `interlock:` marks: the UI script running (its imports evaluated),
// app_status answered and the first screen painted (App.svelte).
performance.mark('interlock:script');

const target = document.getElementById('app');
if (!target) throw new Error('Missing #app element');

const app = mount(App, { target });

export default app;
