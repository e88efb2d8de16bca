import { mount } from 'svelte'
import App from './App.svelte'
import './app.css'
import { app } from './lib/app.svelte'

app.start().then(() => mount(App, { target: document.getElementById('app')! }))
