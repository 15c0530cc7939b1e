x = 'open
