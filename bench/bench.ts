console.log('bench: see issue');
